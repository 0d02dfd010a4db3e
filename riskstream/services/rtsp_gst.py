"""A real RTSP server for camera tests and benchmarks: GStreamer's gst-rtsp-server (Debian).

Run with the *system* Python, which has GStreamer's introspection bindings (python3-gi); this
file imports nothing from riskstream. Each ``--mount /path=clip.mp4`` serves an H.264 MP4 as
it is (no re-encoding); every client gets its own playback from the start, and the stream
ends (EOS) at the end of the clip, which is what a camera that dies looks like to a client.

    /usr/bin/python3 rtsp_gst.py --port 8554 --mount /cam1=clip.mp4
"""

import argparse
import signal
import sys


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--mount", action="append", default=[], help="/path=clip.mp4 (repeatable)")
    args = parser.parse_args()

    import gi

    gi.require_version("Gst", "1.0")
    gi.require_version("GstRtspServer", "1.0")
    from gi.repository import GLib, Gst, GstRtspServer

    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(args.port))
    mounts = server.get_mount_points()
    for item in args.mount:
        path, _, clip = item.partition("=")
        factory = GstRtspServer.RTSPMediaFactory()
        pipeline = f"filesrc location=\"{clip}\" ! qtdemux ! h264parse ! rtph264pay name=pay0 pt=96"
        factory.set_launch(f"( {pipeline} )")
        factory.set_shared(False)
        mounts.add_factory(path, factory)
        print(f"rtsp://127.0.0.1:{args.port}{path} -> {clip}", flush=True)
    if server.attach(None) == 0:
        print(f"cannot listen on port {args.port}", file=sys.stderr)
        return 1
    loop = GLib.MainLoop()
    signal.signal(signal.SIGTERM, lambda *_: loop.quit())
    print("RTSP server ready", flush=True)
    loop.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())

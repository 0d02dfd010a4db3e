"""The camera path of the edge agent: capture (with reconnects), sampling to the analysis rate,
a bounded frame queue that drops stale frames, video detectors, incidents with a lifecycle and
JPEG snapshots. Threads, not processes: FFmpeg decoding, OpenCV and onnxruntime release the
GIL, so one capture thread and one analysis thread per camera use both cores without copying
frames between processes.
"""

import os

# FFmpeg's own console messages (connection refused, ...) duplicate our log lines; keep them
# quiet unless the operator asks for them.
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")

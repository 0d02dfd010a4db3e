"""Video detectors on OpenCV frames (BGR uint8 arrays): zone motion, scene anomaly (ONNX), person
down (fall), camera tampering. Each works on any clip; none reads files or streams itself.
"""

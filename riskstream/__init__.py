"""riskstream: real-time IoT and video event stream processing for public safety."""

__version__ = "0.1.0"

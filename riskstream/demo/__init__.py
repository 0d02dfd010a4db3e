"""The demo: the whole pipeline on simulated sensors of config/demo.yaml."""

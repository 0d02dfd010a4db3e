"""Training the shipped and per-site artifacts from data (above models/, which it uses)."""

"""`create_demo_user`."""

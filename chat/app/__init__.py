"""
The application: options, the twistd service and its log, metrics, and the
wiring that puts the doors, the stages and the core together.
"""

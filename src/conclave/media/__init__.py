"""Media plane: the :class:`MediaServer` port and its Janus implementation."""

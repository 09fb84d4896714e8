"""Chat: messages typed in meetings or posted over the API, stored per room and session."""

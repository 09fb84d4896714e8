"""Q&A: questions asked in a room, their votes and answers, live in the meeting when enabled."""

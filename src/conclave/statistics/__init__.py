"""Usage statistics computed from stored rooms, sessions and participants."""

"""Quizzes: question sets with correct choices, run in meetings under a server-enforced time limit."""

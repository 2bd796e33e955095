"""The persistent alert queue: states from runs, statuses from people."""

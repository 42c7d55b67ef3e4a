"""Session statuses and the state machine every session source shares."""

from nexuslims_kernel.sessions.states import TERMINAL, TRANSITIONS, SessionSource, SessionStatus, can_move

__all__ = ["TERMINAL", "TRANSITIONS", "SessionSource", "SessionStatus", "can_move"]

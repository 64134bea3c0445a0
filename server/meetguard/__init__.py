"""MeetGuard: keeps people off unsafe meeting links and files."""

__version__ = "0.1.0"

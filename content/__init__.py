"""The pure domain of what screens show: no Flask, no SQLAlchemy, no I/O."""

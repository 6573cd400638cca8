"""The embedded default: the whole system on one machine, on moto, through the real handlers."""

"""Batching sinks: ``write(batch)``; a store that is away raises :class:`SinkUnavailable`."""

"""The rules behind the state machine's tasks: what the workflow does next, how units close, who wakes it."""

"""Operator commands registered on the `pulse-console` parser, one module per area."""

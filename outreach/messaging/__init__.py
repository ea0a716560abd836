"""Messaging: what goes into the SMS outbox (templates, segments, quiet hours, audiences) and
the outbox itself (gateways, sending, webhooks, opt-outs)."""

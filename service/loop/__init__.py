"""The closed loop: audits, evaluation against audits, audit sampling (DESIGN §6, §7)."""

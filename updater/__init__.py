"""`kassa update`: the terminal's updater (signed releases into A/B slots, health check,
rollback). Its own process; it never runs inside the till's UI. Terminal code: it imports
contract and firmware's database facts, never head office."""

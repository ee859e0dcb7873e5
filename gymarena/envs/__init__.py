"""Environments written for gymarena where no maintained package offers one."""

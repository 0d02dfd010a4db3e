"""Thin Faust agents: decode, call the pure logic, store or publish, dead-letter what fails."""

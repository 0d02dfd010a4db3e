"""Stream workers (Faust): thin agents around pure logic, sinks to ClickHouse."""

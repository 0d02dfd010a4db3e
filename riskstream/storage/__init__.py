"""ClickHouse: connecting (embedded chdb or a server), versioned migrations, row mapping."""

"""What the database sinks (`sqlite`, `postgres`) share: one statement of the record layout and
merge rules (`rules`), the dump-to-listing title matching (`matching`) and the metric history
(`metrics`). Each sink renders these in its own SQL dialect; tests run the same cases through
both databases and compare them with the Python statement here, so the two cannot drift.
"""

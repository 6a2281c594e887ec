DELETE FROM stats_rollups WHERE span = 15;

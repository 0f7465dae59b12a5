-- Label rows carrying their device's sort keys: the PostgreSQL side is in migration pg-sortkeys (0018); nothing changes here.
SELECT 1;

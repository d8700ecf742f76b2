DROP INDEX videos_author_ready_idx;

DROP TABLE seen_videos;
DROP TABLE view_marks;
DROP TABLE view_batches;

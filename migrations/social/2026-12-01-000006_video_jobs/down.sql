DROP TABLE video_jobs;

DROP TABLE user_stats;
DROP TABLE follows;
DROP TABLE comment_likes;
DROP TABLE comments;
DROP TABLE video_likes;
DROP TABLE video_tags;
DROP TABLE videos;

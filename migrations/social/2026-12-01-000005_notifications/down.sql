DROP TABLE notification_actors;
DROP TABLE notifications;
DROP SEQUENCE notification_seq;

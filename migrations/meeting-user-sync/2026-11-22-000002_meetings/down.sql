DROP TABLE messages;
DROP TABLE participants;
DROP TABLE meetings;

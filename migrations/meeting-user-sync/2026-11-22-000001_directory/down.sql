DROP TABLE webhook_deliveries;
DROP TABLE profiles;

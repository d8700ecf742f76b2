-- One database per service, beside the default 'auth' database.
CREATE DATABASE catalog;
CREATE DATABASE meetings;
CREATE DATABASE social;
CREATE DATABASE commerce;

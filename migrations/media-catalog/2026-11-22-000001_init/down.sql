DROP TABLE library_movies;
DROP TABLE saved_titles;

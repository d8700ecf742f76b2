DROP TRIGGER library_movies_count_remove ON library_movies;
DROP TRIGGER library_movies_count_add ON library_movies;
DROP FUNCTION library_counts_remove();
DROP FUNCTION library_counts_add();
DROP TABLE library_counts;

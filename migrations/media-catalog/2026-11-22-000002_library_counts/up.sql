-- The number of movies in each library, kept exact by triggers, so that page 1 of a
-- large library does not count every row for `meta.total`. Statement-level
-- triggers with transition tables: a bulk insert or delete updates each owner's
-- count once.
CREATE TABLE library_counts (
    owner_issuer TEXT NOT NULL,
    owner_subject TEXT NOT NULL,
    movies BIGINT NOT NULL CHECK (movies >= 0),
    PRIMARY KEY (owner_issuer, owner_subject)
);

INSERT INTO library_counts (owner_issuer, owner_subject, movies)
SELECT owner_issuer, owner_subject, count(*) FROM library_movies GROUP BY 1, 2;

CREATE FUNCTION library_counts_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO library_counts (owner_issuer, owner_subject, movies)
    SELECT owner_issuer, owner_subject, count(*) FROM added GROUP BY 1, 2
    ON CONFLICT (owner_issuer, owner_subject)
        DO UPDATE SET movies = library_counts.movies + EXCLUDED.movies;
    RETURN NULL;
END $$;

CREATE FUNCTION library_counts_remove() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE library_counts AS c
    SET movies = c.movies - r.n
    FROM (SELECT owner_issuer, owner_subject, count(*) AS n FROM removed GROUP BY 1, 2) AS r
    WHERE c.owner_issuer = r.owner_issuer AND c.owner_subject = r.owner_subject;
    RETURN NULL;
END $$;

CREATE TRIGGER library_movies_count_add
    AFTER INSERT ON library_movies REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION library_counts_add();

CREATE TRIGGER library_movies_count_remove
    AFTER DELETE ON library_movies REFERENCING OLD TABLE AS removed
    FOR EACH STATEMENT EXECUTE FUNCTION library_counts_remove();

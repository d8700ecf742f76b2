-- Watchlist and favorites: one row per saved title, with a snapshot of its title
-- and poster so that listing never calls TMDB. Owners are (issuer, subject) pairs
-- from access tokens, never foreign keys into another service's database.
CREATE TABLE saved_titles (
    id UUID PRIMARY KEY,
    owner_issuer TEXT NOT NULL,
    owner_subject TEXT NOT NULL,
    list TEXT NOT NULL CHECK (list IN ('watchlist', 'favorites')),
    media_type TEXT NOT NULL CHECK (media_type IN ('movie', 'tv')),
    tmdb_id BIGINT NOT NULL CHECK (tmdb_id > 0),
    title TEXT NOT NULL,
    poster_path TEXT,
    added_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT saved_titles_owner_title_key UNIQUE (owner_issuer, owner_subject, list, media_type, tmdb_id)
);

CREATE INDEX saved_titles_owner_added_idx
    ON saved_titles (owner_issuer, owner_subject, list, added_at DESC, id DESC);

-- The personal movie library.
CREATE TABLE library_movies (
    id UUID PRIMARY KEY,
    owner_issuer TEXT NOT NULL,
    owner_subject TEXT NOT NULL,
    title TEXT NOT NULL CHECK (char_length(title) BETWEEN 1 AND 200),
    year INTEGER NOT NULL,
    image_url TEXT,
    -- An uploaded poster: SHA-256 prefix of the original, and what was stored.
    poster_etag TEXT,
    poster_content_type TEXT,
    poster_thumbnail_type TEXT,
    poster_width INTEGER,
    poster_height INTEGER,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- One index per sort order, each led by the owner, so that page 1 of any order is
-- an index range scan however large the library is.
CREATE INDEX library_movies_owner_created_idx
    ON library_movies (owner_issuer, owner_subject, created_at DESC, id DESC);
CREATE INDEX library_movies_owner_title_idx
    ON library_movies (owner_issuer, owner_subject, lower(title), id);
CREATE INDEX library_movies_owner_year_idx
    ON library_movies (owner_issuer, owner_subject, year, id);

//! A deterministic synthetic catalog in TMDB's shapes: invented titles, people and
//! videos derived from each id by a fixed hash, so every run and every machine
//! sees the same data. No real TMDB data is in the repository.

use std::collections::HashMap;

use serde_json::{json, Value};

pub const MOVIE_COUNT: u32 = 4000;
pub const TV_COUNT: u32 = 1500;
/// Ids leave gaps, so unknown ids inside the range exist (and answer 404).
const MOVIE_ID_BASE: u32 = 10_000;
const TV_ID_BASE: u32 = 60_000;
const ID_STEP: u32 = 3;
/// The catalog's "today": now playing, upcoming and on-the-air are relative to it.
pub const TODAY: (i32, u32, u32) = (2026, 11, 15);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Media {
    Movie,
    Tv,
}

impl Media {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Movie => "movie",
            Self::Tv => "tv",
        }
    }
}

pub const MOVIE_GENRES: &[(u32, &str)] = &[
    (28, "Action"),
    (12, "Adventure"),
    (16, "Animation"),
    (35, "Comedy"),
    (80, "Crime"),
    (99, "Documentary"),
    (18, "Drama"),
    (10751, "Family"),
    (14, "Fantasy"),
    (36, "History"),
    (27, "Horror"),
    (10402, "Music"),
    (9648, "Mystery"),
    (10749, "Romance"),
    (878, "Science Fiction"),
    (10770, "TV Movie"),
    (53, "Thriller"),
    (10752, "War"),
    (37, "Western"),
];

pub const TV_GENRES: &[(u32, &str)] = &[
    (10759, "Action & Adventure"),
    (16, "Animation"),
    (35, "Comedy"),
    (80, "Crime"),
    (99, "Documentary"),
    (18, "Drama"),
    (10751, "Family"),
    (10762, "Kids"),
    (9648, "Mystery"),
    (10763, "News"),
    (10764, "Reality"),
    (10765, "Sci-Fi & Fantasy"),
    (10766, "Soap"),
    (10767, "Talk"),
    (10768, "War & Politics"),
    (37, "Western"),
];

const ADJECTIVES: &[&str] = &[
    "Silent",
    "Crimson",
    "Hollow",
    "Electric",
    "Forgotten",
    "Golden",
    "Midnight",
    "Broken",
    "Distant",
    "Frozen",
    "Wild",
    "Hidden",
    "Burning",
    "Velvet",
    "Iron",
    "Paper",
    "Lonely",
    "Restless",
    "Secret",
    "Scarlet",
    "Quiet",
    "Endless",
    "Shattered",
    "Northern",
    "Glass",
    "Violet",
    "Savage",
    "Gentle",
    "Final",
    "Lucky",
    "Wandering",
    "Copper",
    "Neon",
    "Ancient",
    "Bitter",
    "Brave",
    "Cosmic",
    "Drowned",
    "Emerald",
    "Fading",
];

const NOUNS: &[&str] = &[
    "Harbor",
    "Protocol",
    "Garden",
    "Signal",
    "Kingdom",
    "Horizon",
    "Orchard",
    "Lantern",
    "Frontier",
    "Machine",
    "River",
    "Empire",
    "Echo",
    "Compass",
    "Voyage",
    "Citadel",
    "Mirror",
    "Summer",
    "Winter",
    "Circuit",
    "Paradox",
    "Shadow",
    "Meridian",
    "Canyon",
    "Orbit",
    "Covenant",
    "Archive",
    "Tide",
    "Outpost",
    "Requiem",
    "Carnival",
    "Labyrinth",
    "Monolith",
    "Sanctuary",
    "Engine",
    "Lighthouse",
    "Station",
    "Season",
    "Ember",
    "Atlas",
];

const FIRST_NAMES: &[&str] = &[
    "Ada", "Bram", "Cleo", "Dario", "Elin", "Faris", "Greta", "Hugo", "Ines", "Jonah", "Kaia",
    "Lior", "Mira", "Nico", "Odile", "Pavel", "Quinn", "Rosa", "Soren", "Tamsin", "Umar", "Vera",
    "Wren", "Xavi", "Yara", "Zeno",
];

const LAST_NAMES: &[&str] = &[
    "Abernathy",
    "Bellweather",
    "Castellan",
    "Dunmore",
    "Eskildsen",
    "Farrow",
    "Galloway",
    "Holloway",
    "Ivers",
    "Jessup",
    "Kettering",
    "Lindqvist",
    "Marchetti",
    "Novak",
    "Okafor",
    "Pellegrini",
    "Quist",
    "Rasmussen",
    "Sterling",
    "Thorne",
    "Underhill",
    "Valdez",
    "Whitlock",
    "Yilmaz",
    "Zubiri",
];

const LANGUAGES: &[&str] = &["en", "en", "en", "fr", "es", "ja", "ko", "de", "it", "pt"];

/// splitmix64: a fixed, well-mixed hash of the id and a salt.
pub fn hash(id: u32, salt: u64) -> u64 {
    let mut z = u64::from(id)
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(salt.wrapping_mul(0xBF58_476D_1CE4_E5B9));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn pick<'a>(list: &[&'a str], h: u64) -> &'a str {
    list[(h % list.len() as u64) as usize]
}

fn unit(h: u64) -> f64 {
    (h % 1_000_000) as f64 / 1_000_000.0
}

/// One synthetic title (movie or TV show).
#[derive(Debug, Clone)]
pub struct Title {
    pub id: u32,
    pub media: Media,
    pub title: String,
    pub original_title: String,
    pub overview: String,
    pub tagline: String,
    pub date: String,
    pub year: i32,
    pub genre_ids: Vec<u32>,
    pub poster_path: String,
    pub backdrop_path: String,
    pub vote_average: f64,
    pub vote_count: u32,
    pub popularity: f64,
    pub runtime: u32,
    pub seasons: u32,
    pub language: &'static str,
    /// Movies: in cinemas now; TV: airing this week.
    pub current: bool,
    /// Movies: release in the next weeks; TV: an episode airs today.
    pub soon: bool,
}

impl Title {
    fn generate(media: Media, index: u32) -> Self {
        let (base, genres, salt) = match media {
            Media::Movie => (MOVIE_ID_BASE, MOVIE_GENRES, 1),
            Media::Tv => (TV_ID_BASE, TV_GENRES, 2),
        };
        let id = base + index * ID_STEP;
        let h = |n: u64| hash(id, salt * 100 + n);
        let adjective = pick(ADJECTIVES, h(1));
        let noun = pick(NOUNS, h(2));
        let other = pick(NOUNS, h(3));
        let title = match h(4) % 5 {
            0 => format!("The {adjective} {noun}"),
            1 => format!("{adjective} {noun}"),
            2 => format!("{noun} of the {adjective} {other}"),
            3 => format!("{noun} {}", 2 + h(5) % 8),
            _ => format!("{noun} and {other}"),
        };
        let language = pick(LANGUAGES, h(6));
        let original_title = if language == "en" {
            title.clone()
        } else {
            format!("{title} ({language})")
        };
        // One title in ten is recent (around the catalog's "today").
        let recent = h(7) % 10 == 0;
        let (year, month, day) = if recent {
            let offset = (h(8) % 150) as i64 - 75;
            add_days(TODAY, offset)
        } else {
            (
                1950 + (h(8) % 76) as i32,
                1 + (h(9) % 12) as u32,
                1 + (h(10) % 28) as u32,
            )
        };
        let date = format!("{year:04}-{month:02}-{day:02}");
        let days_from_today = days_between(TODAY, (year, month, day));
        let genre_count = 1 + (h(11) % 3) as usize;
        let mut genre_ids = Vec::new();
        for n in 0..genre_count {
            let g = genres[(h(12 + n as u64) % genres.len() as u64) as usize].0;
            if !genre_ids.contains(&g) {
                genre_ids.push(g);
            }
        }
        let vote_count = (h(20) % 20_000) as u32;
        let vote_average = if vote_count == 0 {
            0.0
        } else {
            (30.0 + unit(h(21)) * 60.0).round() / 10.0
        };
        let popularity = ((1.0 + unit(h(22)) * unit(h(23)) * 2500.0) * 1000.0).round() / 1000.0;
        let (current, soon) = match media {
            Media::Movie => (
                (-45..=0).contains(&days_from_today),
                (1..=60).contains(&days_from_today),
            ),
            Media::Tv => (h(24) % 5 == 0, h(24) % 13 == 0),
        };
        Self {
            id,
            media,
            overview: format!(
                "In a world of {} {}s, a {} {} must face the {} {} before the {} ends.",
                pick(ADJECTIVES, h(30)).to_lowercase(),
                pick(NOUNS, h(31)).to_lowercase(),
                pick(ADJECTIVES, h(32)).to_lowercase(),
                pick(FIRST_NAMES, h(33)),
                pick(ADJECTIVES, h(34)).to_lowercase(),
                pick(NOUNS, h(35)).to_lowercase(),
                pick(NOUNS, h(36)).to_lowercase(),
            ),
            tagline: format!(
                "Every {} has its {}.",
                pick(NOUNS, h(40)).to_lowercase(),
                pick(NOUNS, h(41)).to_lowercase()
            ),
            title,
            original_title,
            date,
            year,
            genre_ids,
            poster_path: format!("/{}.jpg", token(h(50), 27)),
            backdrop_path: format!("/{}.jpg", token(h(51), 27)),
            vote_average,
            vote_count,
            popularity,
            runtime: match media {
                Media::Movie => 80 + (h(60) % 90) as u32,
                Media::Tv => 22 + (h(60) % 40) as u32,
            },
            seasons: match media {
                Media::Movie => 0,
                Media::Tv => 1 + (h(61) % 8) as u32,
            },
            language,
            current,
            soon,
        }
    }

    /// The list item, as TMDB's list endpoints return it.
    pub fn list_item(&self, with_media_type: bool) -> Value {
        let mut item = match self.media {
            Media::Movie => json!({
                "adult": false,
                "backdrop_path": self.backdrop_path,
                "genre_ids": self.genre_ids,
                "id": self.id,
                "original_language": self.language,
                "original_title": self.original_title,
                "overview": self.overview,
                "popularity": self.popularity,
                "poster_path": self.poster_path,
                "release_date": self.date,
                "title": self.title,
                "video": false,
                "vote_average": self.vote_average,
                "vote_count": self.vote_count,
            }),
            Media::Tv => json!({
                "adult": false,
                "backdrop_path": self.backdrop_path,
                "genre_ids": self.genre_ids,
                "id": self.id,
                "origin_country": [country(self.language)],
                "original_language": self.language,
                "original_name": self.original_title,
                "overview": self.overview,
                "popularity": self.popularity,
                "poster_path": self.poster_path,
                "first_air_date": self.date,
                "name": self.title,
                "vote_average": self.vote_average,
                "vote_count": self.vote_count,
            }),
        };
        if with_media_type {
            item["media_type"] = json!(self.media.as_str());
        }
        item
    }

    /// The details document of `/movie/{id}` or `/tv/{id}`.
    pub fn details(&self) -> Value {
        let mut doc = self.list_item(false);
        let genres = match self.media {
            Media::Movie => MOVIE_GENRES,
            Media::Tv => TV_GENRES,
        };
        let named: Vec<Value> = self
            .genre_ids
            .iter()
            .filter_map(|id| genres.iter().find(|(g, _)| g == id))
            .map(|(id, name)| json!({ "id": id, "name": name }))
            .collect();
        doc["genres"] = json!(named);
        doc["tagline"] = json!(self.tagline);
        doc["homepage"] = json!("");
        let obj = match doc.as_object_mut() {
            Some(obj) => obj,
            None => return doc,
        };
        obj.remove("genre_ids");
        match self.media {
            Media::Movie => {
                obj.insert("runtime".into(), json!(self.runtime));
                obj.insert(
                    "status".into(),
                    json!(if self.soon {
                        "Post Production"
                    } else {
                        "Released"
                    }),
                );
                obj.insert("budget".into(), json!(hash(self.id, 70) % 200_000_000));
                obj.insert("revenue".into(), json!(hash(self.id, 71) % 900_000_000));
                obj.insert("imdb_id".into(), json!(format!("tt{:07}", self.id)));
            }
            Media::Tv => {
                obj.insert("episode_run_time".into(), json!([self.runtime]));
                obj.insert(
                    "status".into(),
                    json!(if self.current {
                        "Returning Series"
                    } else {
                        "Ended"
                    }),
                );
                obj.insert("number_of_seasons".into(), json!(self.seasons));
                let episodes: u32 = (1..=self.seasons).map(|n| self.episode_count(n)).sum();
                obj.insert("number_of_episodes".into(), json!(episodes));
                let seasons: Vec<Value> = (1..=self.seasons)
                    .map(|n| {
                        json!({
                            "air_date": self.season_date(n),
                            "episode_count": self.episode_count(n),
                            "id": self.id * 100 + n,
                            "name": format!("Season {n}"),
                            "overview": "",
                            "poster_path": format!("/{}.jpg", token(hash(self.id, 80 + u64::from(n)), 27)),
                            "season_number": n,
                            "vote_average": self.vote_average,
                        })
                    })
                    .collect();
                obj.insert("seasons".into(), json!(seasons));
            }
        }
        doc
    }

    pub fn episode_count(&self, season: u32) -> u32 {
        6 + (hash(self.id, 90 + u64::from(season)) % 7) as u32
    }

    fn season_date(&self, season: u32) -> String {
        format!("{:04}-09-01", self.year + season as i32 - 1)
    }

    /// `/tv/{id}/season/{n}`; `None` for a season the show does not have.
    pub fn season(&self, n: u32) -> Option<Value> {
        if self.media != Media::Tv || n == 0 || n > self.seasons {
            return None;
        }
        let episodes: Vec<Value> = (1..=self.episode_count(n))
            .map(|e| {
                let h = hash(self.id * 1000 + n * 50 + e, 95);
                json!({
                    "air_date": self.season_date(n),
                    "episode_number": e,
                    "id": self.id * 10_000 + n * 100 + e,
                    "name": format!("{} {}", pick(ADJECTIVES, h), pick(NOUNS, h >> 8)),
                    "overview": format!("Episode {e} of season {n}."),
                    "runtime": self.runtime,
                    "season_number": n,
                    "still_path": format!("/{}.jpg", token(h >> 16, 27)),
                    "vote_average": self.vote_average,
                    "vote_count": h % 500,
                })
            })
            .collect();
        Some(json!({
            "_id": format!("{:024x}", u128::from(self.id) * 1000 + u128::from(n)),
            "air_date": self.season_date(n),
            "episodes": episodes,
            "name": format!("Season {n}"),
            "overview": "",
            "id": self.id * 100 + n,
            "poster_path": format!("/{}.jpg", token(hash(self.id, 80 + u64::from(n)), 27)),
            "season_number": n,
            "vote_average": self.vote_average,
        }))
    }

    pub fn videos(&self) -> Value {
        let count = 1 + hash(self.id, 100) % 3;
        let kinds = ["Trailer", "Teaser", "Featurette", "Clip"];
        let results: Vec<Value> = (0..count)
            .map(|n| {
                let h = hash(self.id, 101 + n);
                json!({
                    "iso_639_1": "en",
                    "iso_3166_1": "US",
                    "name": format!("Official {} {}", kinds[n as usize % kinds.len()], n + 1),
                    "key": token(h, 11),
                    "site": "YouTube",
                    "size": 1080,
                    "type": kinds[n as usize % kinds.len()],
                    "official": true,
                    "published_at": format!("{}T12:00:00.000Z", self.date),
                    "id": format!("{:024x}", h),
                })
            })
            .collect();
        json!({ "id": self.id, "results": results })
    }

    pub fn credits(&self) -> Value {
        let cast: Vec<Value> = (0..8u64)
            .map(|n| {
                let person = person(hash(self.id, 200 + n));
                let mut entry = person.clone();
                entry["character"] = json!(format!(
                    "{} {}",
                    pick(FIRST_NAMES, hash(self.id, 220 + n)),
                    pick(LAST_NAMES, hash(self.id, 240 + n))
                ));
                entry["credit_id"] = json!(format!("{:024x}", hash(self.id, 260 + n)));
                entry["order"] = json!(n);
                entry["known_for_department"] = json!("Acting");
                entry
            })
            .collect();
        let jobs = [
            ("Directing", "Director"),
            ("Writing", "Screenplay"),
            ("Sound", "Original Music Composer"),
        ];
        let crew: Vec<Value> = jobs
            .iter()
            .enumerate()
            .map(|(n, (department, job))| {
                let mut entry = person(hash(self.id, 300 + n as u64));
                entry["department"] = json!(department);
                entry["job"] = json!(job);
                entry["known_for_department"] = json!(department);
                entry["credit_id"] = json!(format!("{:024x}", hash(self.id, 320 + n as u64)));
                entry
            })
            .collect();
        json!({ "id": self.id, "cast": cast, "crew": crew })
    }
}

fn person(h: u64) -> Value {
    let name = format!("{} {}", pick(FIRST_NAMES, h), pick(LAST_NAMES, h >> 12));
    json!({
        "adult": false,
        "gender": 1 + h % 2,
        "id": 1_000_000 + h % 9_000_000,
        "name": name,
        "original_name": name,
        "popularity": ((h >> 20) % 10_000) as f64 / 100.0,
        "profile_path": format!("/{}.jpg", token(h >> 8, 27)),
    })
}

fn country(language: &str) -> &'static str {
    match language {
        "fr" => "FR",
        "es" => "ES",
        "ja" => "JP",
        "ko" => "KR",
        "de" => "DE",
        "it" => "IT",
        "pt" => "BR",
        _ => "US",
    }
}

/// A base62 string of `len` characters derived from `seed` (image paths, video keys).
fn token(seed: u64, len: usize) -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut state = seed;
    (0..len)
        .map(|n| {
            state = hash((state % u64::from(u32::MAX)) as u32, n as u64 + seed);
            ALPHABET[(state % 62) as usize] as char
        })
        .collect()
}

fn is_leap(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn month_days(year: i32, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn add_days(date: (i32, u32, u32), days: i64) -> (i32, u32, u32) {
    let (mut y, mut m, mut d) = date;
    let mut left = days;
    while left > 0 {
        d += 1;
        if d > month_days(y, m) {
            d = 1;
            m += 1;
            if m > 12 {
                m = 1;
                y += 1;
            }
        }
        left -= 1;
    }
    while left < 0 {
        if d == 1 {
            if m == 1 {
                m = 12;
                y -= 1;
            } else {
                m -= 1;
            }
            d = month_days(y, m);
        } else {
            d -= 1;
        }
        left += 1;
    }
    (y, m, d)
}

fn day_number(date: (i32, u32, u32)) -> i64 {
    let (y, m, d) = date;
    let mut days = i64::from(y) * 365 + i64::from((y - 1) / 4 - (y - 1) / 100 + (y - 1) / 400);
    for month in 1..m {
        days += i64::from(month_days(y, month));
    }
    days + i64::from(d)
}

/// Days from `from` to `to` (positive when `to` is later).
fn days_between(from: (i32, u32, u32), to: (i32, u32, u32)) -> i64 {
    day_number(to) - day_number(from)
}

/// The whole catalog, with the fixed orderings the list endpoints use.
pub struct Catalog {
    pub movies: Vec<Title>,
    pub tv: Vec<Title>,
    index: HashMap<(Media, u32), usize>,
}

impl Default for Catalog {
    fn default() -> Self {
        Self::new()
    }
}

impl Catalog {
    pub fn new() -> Self {
        let movies: Vec<Title> = (0..MOVIE_COUNT)
            .map(|i| Title::generate(Media::Movie, i))
            .collect();
        let tv: Vec<Title> = (0..TV_COUNT)
            .map(|i| Title::generate(Media::Tv, i))
            .collect();
        let mut index = HashMap::new();
        for (i, t) in movies.iter().enumerate() {
            index.insert((Media::Movie, t.id), i);
        }
        for (i, t) in tv.iter().enumerate() {
            index.insert((Media::Tv, t.id), i);
        }
        Self { movies, tv, index }
    }

    pub fn titles(&self, media: Media) -> &[Title] {
        match media {
            Media::Movie => &self.movies,
            Media::Tv => &self.tv,
        }
    }

    pub fn get(&self, media: Media, id: u32) -> Option<&Title> {
        let i = *self.index.get(&(media, id))?;
        self.titles(media).get(i)
    }

    /// Titles of the same first genre, most popular first (recommendations).
    pub fn recommendations(&self, title: &Title) -> Vec<&Title> {
        let genre = title.genre_ids.first().copied();
        let mut out: Vec<&Title> = self
            .titles(title.media)
            .iter()
            .filter(|t| t.id != title.id && t.genre_ids.first().copied() == genre)
            .collect();
        out.sort_by(|a, b| b.popularity.total_cmp(&a.popularity));
        out.truncate(40);
        out
    }

    /// Titles sharing a genre, closest in year first (similar).
    pub fn similar(&self, title: &Title) -> Vec<&Title> {
        let mut out: Vec<&Title> = self
            .titles(title.media)
            .iter()
            .filter(|t| t.id != title.id && t.genre_ids.iter().any(|g| title.genre_ids.contains(g)))
            .collect();
        out.sort_by_key(|t| ((t.year - title.year).abs(), t.id));
        out.truncate(40);
        out
    }

    /// A trending score that differs between the day and the week window.
    pub fn trending_score(title: &Title, window_salt: u64) -> f64 {
        title.popularity * (0.5 + unit(hash(title.id, window_salt)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalog_is_deterministic_and_large() {
        let a = Catalog::new();
        let b = Catalog::new();
        assert_eq!(a.movies.len(), MOVIE_COUNT as usize);
        assert_eq!(a.tv.len(), TV_COUNT as usize);
        assert_eq!(a.movies[17].title, b.movies[17].title);
        assert_eq!(a.tv[3].details(), b.tv[3].details());
        assert!(a.get(Media::Movie, MOVIE_ID_BASE + 1).is_none());
        assert!(a.get(Media::Movie, MOVIE_ID_BASE).is_some());
    }

    #[test]
    fn some_movies_are_in_cinemas_and_some_upcoming() {
        let c = Catalog::new();
        assert!(c.movies.iter().filter(|m| m.current).count() > 20);
        assert!(c.movies.iter().filter(|m| m.soon).count() > 20);
    }

    #[test]
    fn dates_step_across_months_and_years() {
        assert_eq!(add_days((2026, 12, 31), 1), (2027, 1, 1));
        assert_eq!(add_days((2024, 3, 1), -1), (2024, 2, 29));
        assert_eq!(days_between((2026, 11, 15), (2026, 12, 15)), 30);
    }
}

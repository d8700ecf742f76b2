//! TMDB's snake_case documents turned into Reelstack's camelCase shapes, with
//! ready image URLs. TMDB fields are read leniently (missing or null is `None`):
//! a field TMDB drops must not break a page.

use common::pagination::{Page, PageMeta};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::domain::MediaType;

/// TMDB's fixed page size.
pub const TMDB_PAGE_SIZE: i64 = 20;

/// Builds image URLs: `{base}/{size}{path}`.
pub struct Images<'a> {
    pub base: &'a str,
    pub poster_size: &'a str,
}

impl Images<'_> {
    fn url(&self, size: &str, path: Option<&str>) -> Option<String> {
        path.filter(|p| p.starts_with('/'))
            .map(|p| format!("{}/{size}{p}", self.base))
    }

    pub fn poster(&self, path: Option<&str>) -> Option<String> {
        self.url(self.poster_size, path)
    }
}

fn text(raw: &Value, key: &str) -> Option<String> {
    raw.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn int(raw: &Value, key: &str) -> Option<i64> {
    raw.get(key).and_then(Value::as_i64)
}

fn float(raw: &Value, key: &str) -> Option<f64> {
    raw.get(key).and_then(Value::as_f64)
}

fn array<'a>(raw: &'a Value, key: &str) -> impl Iterator<Item = &'a Value> {
    raw.get(key)
        .and_then(Value::as_array)
        .map(|a| a.iter())
        .into_iter()
        .flatten()
}

/// A movie or TV show in any list.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CatalogItem {
    pub id: i64,
    pub media_type: MediaType,
    /// TV: TMDB's `name`.
    pub title: String,
    pub original_title: Option<String>,
    pub overview: Option<String>,
    /// `YYYY-MM-DD`; TV: the first air date.
    pub release_date: Option<String>,
    pub genre_ids: Vec<i64>,
    pub poster_path: Option<String>,
    pub poster_url: Option<String>,
    pub backdrop_path: Option<String>,
    pub backdrop_url: Option<String>,
    pub vote_average: f64,
    pub vote_count: i64,
    pub popularity: f64,
    pub adult: bool,
}

/// One list item; `None` for entries that are neither movies nor TV (people in a
/// multi search).
pub fn item(raw: &Value, default_media: Option<MediaType>, images: &Images) -> Option<CatalogItem> {
    let media = match raw.get("media_type").and_then(Value::as_str) {
        Some(kind) => MediaType::parse(kind)?,
        None => default_media?,
    };
    let (title_key, original_key, date_key) = match media {
        MediaType::Movie => ("title", "original_title", "release_date"),
        MediaType::Tv => ("name", "original_name", "first_air_date"),
    };
    let poster_path = text(raw, "poster_path");
    let backdrop_path = text(raw, "backdrop_path");
    let genre_ids = match raw.get("genre_ids") {
        Some(ids) => ids
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_i64).collect())
            .unwrap_or_default(),
        None => array(raw, "genres").filter_map(|g| int(g, "id")).collect(),
    };
    Some(CatalogItem {
        id: int(raw, "id")?,
        media_type: media,
        title: text(raw, title_key).unwrap_or_default(),
        original_title: text(raw, original_key),
        overview: text(raw, "overview"),
        release_date: text(raw, date_key),
        genre_ids,
        poster_url: images.poster(poster_path.as_deref()),
        backdrop_url: images.url("w1280", backdrop_path.as_deref()),
        poster_path,
        backdrop_path,
        vote_average: float(raw, "vote_average").unwrap_or(0.0),
        vote_count: int(raw, "vote_count").unwrap_or(0),
        popularity: float(raw, "popularity").unwrap_or(0.0),
        adult: raw.get("adult").and_then(Value::as_bool).unwrap_or(false),
    })
}

/// A TMDB list (`{page, results, total_pages, total_results}`) as a Reelstack page.
pub fn list(raw: &Value, default_media: Option<MediaType>, images: &Images) -> Page<CatalogItem> {
    let items: Vec<CatalogItem> = array(raw, "results")
        .filter_map(|r| item(r, default_media, images))
        .collect();
    Page {
        items,
        meta: PageMeta {
            page: int(raw, "page").unwrap_or(1),
            limit: TMDB_PAGE_SIZE,
            total: int(raw, "total_results").unwrap_or(0),
            total_pages: int(raw, "total_pages").unwrap_or(0),
        },
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Genre {
    pub id: i64,
    pub name: String,
}

pub fn genres(raw: &Value) -> Vec<Genre> {
    array(raw, "genres")
        .filter_map(|g| {
            Some(Genre {
                id: int(g, "id")?,
                name: text(g, "name")?,
            })
        })
        .collect()
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Video {
    pub id: Option<String>,
    pub key: String,
    pub name: Option<String>,
    pub site: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub official: bool,
    pub published_at: Option<String>,
    /// A watch URL for YouTube and Vimeo videos.
    pub url: Option<String>,
}

pub fn videos(raw: &Value) -> Vec<Video> {
    array(raw, "results")
        .filter_map(|v| {
            let key = text(v, "key")?;
            let site = text(v, "site");
            let url = match site.as_deref() {
                Some("YouTube") => Some(format!("https://www.youtube.com/watch?v={key}")),
                Some("Vimeo") => Some(format!("https://vimeo.com/{key}")),
                _ => None,
            };
            Some(Video {
                id: text(v, "id"),
                name: text(v, "name"),
                kind: text(v, "type"),
                official: v.get("official").and_then(Value::as_bool).unwrap_or(false),
                published_at: text(v, "published_at"),
                site,
                url,
                key,
            })
        })
        .collect()
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CastMember {
    pub id: i64,
    pub name: String,
    pub character: Option<String>,
    pub order: Option<i64>,
    pub profile_path: Option<String>,
    pub profile_url: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CrewMember {
    pub id: i64,
    pub name: String,
    pub job: Option<String>,
    pub department: Option<String>,
    pub profile_path: Option<String>,
    pub profile_url: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Credits {
    pub cast: Vec<CastMember>,
    pub crew: Vec<CrewMember>,
}

pub fn credits(raw: &Value, images: &Images) -> Credits {
    let profile = |p: &Value| {
        let path = text(p, "profile_path");
        (images.url("w185", path.as_deref()), path)
    };
    Credits {
        cast: array(raw, "cast")
            .filter_map(|c| {
                let (profile_url, profile_path) = profile(c);
                Some(CastMember {
                    id: int(c, "id")?,
                    name: text(c, "name")?,
                    character: text(c, "character"),
                    order: int(c, "order"),
                    profile_path,
                    profile_url,
                })
            })
            .collect(),
        crew: array(raw, "crew")
            .filter_map(|c| {
                let (profile_url, profile_path) = profile(c);
                Some(CrewMember {
                    id: int(c, "id")?,
                    name: text(c, "name")?,
                    job: text(c, "job"),
                    department: text(c, "department"),
                    profile_path,
                    profile_url,
                })
            })
            .collect(),
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SeasonSummary {
    pub season_number: i64,
    pub name: Option<String>,
    pub episode_count: Option<i64>,
    pub air_date: Option<String>,
    pub poster_path: Option<String>,
    pub poster_url: Option<String>,
}

/// Details of a movie or show: the list item plus what only details carry, and the
/// sections asked for with `append`.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TitleDetails {
    #[serde(flatten)]
    pub item: CatalogItem,
    pub genres: Vec<Genre>,
    /// Movies: minutes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runtime: Option<i64>,
    /// TV: minutes of a typical episode.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub episode_run_time: Option<i64>,
    pub tagline: Option<String>,
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub number_of_seasons: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub number_of_episodes: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seasons: Option<Vec<SeasonSummary>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub videos: Option<Vec<Video>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credits: Option<Credits>,
    /// The first page of recommendations.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recommendations: Option<Vec<CatalogItem>>,
    /// The first page of similar titles.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub similar: Option<Vec<CatalogItem>>,
}

pub fn details(raw: &Value, media: MediaType, images: &Images) -> Option<TitleDetails> {
    let mut plain = raw.clone();
    if let Some(obj) = plain.as_object_mut() {
        obj.remove("media_type");
    }
    let item = item(&plain, Some(media), images)?;
    let section = |name: &str| raw.get(name).filter(|v| v.is_object());
    let tv = media == MediaType::Tv;
    Some(TitleDetails {
        item,
        genres: genres(raw),
        runtime: if tv { None } else { int(raw, "runtime") },
        episode_run_time: if tv {
            array(raw, "episode_run_time").find_map(Value::as_i64)
        } else {
            None
        },
        tagline: text(raw, "tagline"),
        status: text(raw, "status"),
        number_of_seasons: if tv {
            int(raw, "number_of_seasons")
        } else {
            None
        },
        number_of_episodes: if tv {
            int(raw, "number_of_episodes")
        } else {
            None
        },
        seasons: tv.then(|| {
            array(raw, "seasons")
                .filter_map(|s| {
                    let poster_path = text(s, "poster_path");
                    Some(SeasonSummary {
                        season_number: int(s, "season_number")?,
                        name: text(s, "name"),
                        episode_count: int(s, "episode_count"),
                        air_date: text(s, "air_date"),
                        poster_url: images.poster(poster_path.as_deref()),
                        poster_path,
                    })
                })
                .collect()
        }),
        videos: section("videos").map(videos),
        credits: section("credits").map(|c| credits(c, images)),
        recommendations: section("recommendations").map(|r| list(r, Some(media), images).items),
        similar: section("similar").map(|r| list(r, Some(media), images).items),
    })
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Episode {
    pub id: i64,
    pub episode_number: i64,
    pub name: Option<String>,
    pub overview: Option<String>,
    pub air_date: Option<String>,
    pub runtime: Option<i64>,
    pub still_path: Option<String>,
    pub still_url: Option<String>,
    pub vote_average: f64,
    pub vote_count: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Season {
    pub id: Option<i64>,
    pub season_number: i64,
    pub name: Option<String>,
    pub overview: Option<String>,
    pub air_date: Option<String>,
    pub poster_path: Option<String>,
    pub poster_url: Option<String>,
    pub episodes: Vec<Episode>,
}

pub fn season(raw: &Value, images: &Images) -> Option<Season> {
    let poster_path = text(raw, "poster_path");
    Some(Season {
        id: int(raw, "id"),
        season_number: int(raw, "season_number")?,
        name: text(raw, "name"),
        overview: text(raw, "overview"),
        air_date: text(raw, "air_date"),
        poster_url: images.poster(poster_path.as_deref()),
        poster_path,
        episodes: array(raw, "episodes")
            .filter_map(|e| {
                let still_path = text(e, "still_path");
                Some(Episode {
                    id: int(e, "id")?,
                    episode_number: int(e, "episode_number")?,
                    name: text(e, "name"),
                    overview: text(e, "overview"),
                    air_date: text(e, "air_date"),
                    runtime: int(e, "runtime"),
                    still_url: images.url("w300", still_path.as_deref()),
                    still_path,
                    vote_average: float(e, "vote_average").unwrap_or(0.0),
                    vote_count: int(e, "vote_count").unwrap_or(0),
                })
            })
            .collect(),
    })
}

/// Where images live and which sizes exist.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CatalogConfig {
    pub image_base_url: String,
    pub poster_sizes: Vec<String>,
    pub backdrop_sizes: Vec<String>,
    pub profile_sizes: Vec<String>,
    pub still_sizes: Vec<String>,
}

pub fn config(raw: &Value, image_base_url: &str) -> CatalogConfig {
    let images = raw.get("images").cloned().unwrap_or(Value::Null);
    let sizes = |key: &str| -> Vec<String> {
        array(&images, key)
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect()
    };
    CatalogConfig {
        image_base_url: image_base_url.to_owned(),
        poster_sizes: sizes("poster_sizes"),
        backdrop_sizes: sizes("backdrop_sizes"),
        profile_sizes: sizes("profile_sizes"),
        still_sizes: sizes("still_sizes"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const IMAGES: Images<'static> = Images {
        base: "https://img.example/t/p",
        poster_size: "w342",
    };

    #[test]
    fn tv_names_and_air_dates_map_onto_title_and_release_date() {
        let raw = json!({"id": 7, "name": "Harbor", "original_name": "Hafen", "first_air_date": "2020-01-02",
            "poster_path": "/p.jpg", "genre_ids": [18], "vote_average": 7.5, "vote_count": 10, "popularity": 3.2});
        let item = item(&raw, Some(MediaType::Tv), &IMAGES).unwrap();
        assert_eq!(item.title, "Harbor");
        assert_eq!(item.release_date.as_deref(), Some("2020-01-02"));
        assert_eq!(
            item.poster_url.as_deref(),
            Some("https://img.example/t/p/w342/p.jpg")
        );
        assert_eq!(item.backdrop_url, None);
    }

    #[test]
    fn people_in_a_multi_search_are_left_out() {
        let raw = json!({"page": 1, "total_results": 2, "total_pages": 1, "results": [
            {"id": 1, "media_type": "person", "name": "Someone"},
            {"id": 2, "media_type": "movie", "title": "A Film", "release_date": ""}]});
        let page = list(&raw, None, &IMAGES);
        assert_eq!(page.items.len(), 1);
        assert_eq!(page.items[0].release_date, None);
        assert_eq!(page.meta.total, 2);
    }
}

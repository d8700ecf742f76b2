-- The writes every like, comment and follow makes on rows they share, as
-- functions: one round trip each, their statements planned once per
-- connection, so that the rows a storm of likes waits on in turn (a video's
-- notification group, its counter, its author's counter) are held for the
-- least time. Notifications and counters are as described in 000001 and 000005.

-- Tells a recipient that an actor did something: joins the unread group of
-- (recipient, type, target), or starts it as p_new_id. The actor is counted
-- once and put first among the latest p_keep; a like again by the same actor is
-- no news, a new comment (p_comment) always is. Answers the group's id when it
-- changed, else NULL. Never of one's own actions (the caller checks).
CREATE FUNCTION record_notification(
    p_recipient_issuer TEXT, p_recipient_subject TEXT, p_type TEXT, p_target TEXT,
    p_video UUID, p_comment UUID, p_actor_issuer TEXT, p_actor_subject TEXT,
    p_actor JSONB, p_keep INT, p_new_id UUID
) RETURNS UUID LANGUAGE plpgsql AS $$
DECLARE
    g UUID;
    added INT;
BEGIN
    -- Twice at most: a group made by another transaction between the look-up
    -- and the insert is joined on the second pass (each statement here sees
    -- what committed before it began).
    FOR attempt IN 1..2 LOOP
        SELECT id INTO g FROM notifications
        WHERE recipient_issuer = p_recipient_issuer AND recipient_subject = p_recipient_subject
          AND type = p_type AND target = p_target AND read_at IS NULL
        FOR UPDATE;
        IF FOUND THEN
            INSERT INTO notification_actors (notification_id, actor_issuer, actor_subject)
            VALUES (g, p_actor_issuer, p_actor_subject) ON CONFLICT DO NOTHING;
            GET DIAGNOSTICS added = ROW_COUNT;
            IF added = 0 AND p_comment IS NULL THEN
                RETURN NULL;
            END IF;
            UPDATE notifications n SET
                actor_count = n.actor_count + added,
                recent_actors = (
                    SELECT jsonb_agg(r.e ORDER BY r.o) FROM (
                        SELECT p_actor AS e, 0::BIGINT AS o
                        UNION ALL
                        (SELECT x.e, x.o FROM jsonb_array_elements(n.recent_actors) WITH ORDINALITY AS x(e, o)
                         WHERE x.e <> p_actor ORDER BY x.o LIMIT p_keep - 1)) r),
                comment_id = COALESCE(p_comment, n.comment_id),
                seq = nextval('notification_seq'),
                created_at = now()
            WHERE n.id = g;
            RETURN g;
        END IF;
        INSERT INTO notifications (id, recipient_issuer, recipient_subject, type, target, video_id, comment_id, recent_actors)
        VALUES (p_new_id, p_recipient_issuer, p_recipient_subject, p_type, p_target, p_video, p_comment, jsonb_build_array(p_actor))
        ON CONFLICT (recipient_issuer, recipient_subject, type, target) WHERE read_at IS NULL DO NOTHING;
        IF FOUND THEN
            INSERT INTO notification_actors (notification_id, actor_issuer, actor_subject)
            VALUES (p_new_id, p_actor_issuer, p_actor_subject);
            RETURN p_new_id;
        END IF;
    END LOOP;
    RETURN NULL;
END
$$;

-- Likes (p_like) or unlikes a video for a person, who must be able to see it
-- (ready, or theirs). No row when they cannot; else the video's like count
-- after, its author, and the author's changed notification (NULL when none). The shared rows
-- are written last: the notification group, the video's counter, then its
-- author's (the order every writer of both counters takes them in).
CREATE FUNCTION set_video_like(
    p_video UUID, p_issuer TEXT, p_subject TEXT, p_actor JSONB, p_like BOOLEAN,
    p_keep INT, p_new_notification UUID
) RETURNS TABLE (like_count BIGINT, author_issuer TEXT, author_subject TEXT, notification UUID)
LANGUAGE plpgsql AS $$
DECLARE
    v RECORD;
    changed INT;
    delta INT := CASE WHEN p_like THEN 1 ELSE -1 END;
BEGIN
    -- KEY SHARE, the lock the like's foreign key takes anyway, taken first for
    -- an unlike too: likers never wait on each other for it, and a delete of the
    -- video (FOR UPDATE) waits until they are done, or they until it is (and
    -- find nothing). Without it an unlike holding its like row would wait on
    -- the deleting transaction for the counter while that waits on the row.
    SELECT videos.author_issuer, videos.author_subject, videos.like_count INTO v FROM videos
    WHERE id = p_video
      AND (status = 'ready' OR (videos.author_issuer = p_issuer AND videos.author_subject = p_subject))
    FOR KEY SHARE;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    author_issuer := v.author_issuer;
    author_subject := v.author_subject;
    IF p_like THEN
        INSERT INTO user_stats (issuer, subject) VALUES (p_issuer, p_subject) ON CONFLICT DO NOTHING;
        INSERT INTO video_likes (video_id, user_issuer, user_subject)
        VALUES (p_video, p_issuer, p_subject) ON CONFLICT DO NOTHING;
    ELSE
        DELETE FROM video_likes
        WHERE video_id = p_video AND user_issuer = p_issuer AND user_subject = p_subject;
    END IF;
    GET DIAGNOSTICS changed = ROW_COUNT;
    IF changed = 0 THEN
        like_count := v.like_count;
        RETURN NEXT;
        RETURN;
    END IF;
    IF p_like AND (p_issuer, p_subject) IS DISTINCT FROM (v.author_issuer, v.author_subject) THEN
        notification := record_notification(
            v.author_issuer, v.author_subject, 'like', p_video::TEXT, p_video, NULL,
            p_issuer, p_subject, p_actor, p_keep, p_new_notification);
    END IF;
    UPDATE videos SET like_count = videos.like_count + delta WHERE id = p_video
    RETURNING videos.like_count INTO like_count;
    INSERT INTO user_stats (issuer, subject) VALUES (v.author_issuer, v.author_subject) ON CONFLICT DO NOTHING;
    UPDATE user_stats SET like_count = user_stats.like_count + delta
    WHERE issuer = v.author_issuer AND subject = v.author_subject;
    RETURN NEXT;
END
$$;

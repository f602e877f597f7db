// The original recording of a transcription: a video player for video, else an audio player.

import { useState, type RefCallback } from "react";
import { mediaUrl } from "../../api/client";
import type { JobRecord } from "../../state/jobs";

interface MediaPlayerProps {
  id: string;
  record: JobRecord;
  mediaRef: RefCallback<HTMLMediaElement>;
  /** Called as playback moves on or jumps (`timeupdate`, `seeked`). */
  onTime: () => void;
}

export function isVideo(record: Pick<JobRecord, "media_kind" | "content_type">): boolean {
  return record.media_kind === "video" || (record.content_type ?? "").startsWith("video/");
}

export function MediaPlayer({ id, record, mediaRef, onTime }: MediaPlayerProps) {
  const [failed, setFailed] = useState(false);
  const video = isVideo(record);
  const filename = record.filename ?? "";
  const Media = video ? "video" : "audio";
  return (
    <div className="player">
      <Media
        ref={mediaRef}
        className={video ? "player__media player__media--video" : "player__media"}
        controls
        playsInline={video ? true : undefined}
        preload="metadata"
        src={mediaUrl(id)}
        onTimeUpdate={onTime}
        onSeeked={onTime}
        onError={() => setFailed(true)}
        aria-label={`${video ? "Video" : "Audio"}: ${filename}`}
      />
      {failed ? <p className="small error-text">The original recording could not be loaded.</p> : null}
    </div>
  );
}

// The original recording of a transcription: a video player for video, else an audio player,
// with its own controls (skip, speed, shortcuts) below, and the mini-player that stands in for
// it on a narrow screen once it has scrolled out of view.

import { useCallback, useState } from "react";
import { mediaUrl } from "../../api/client";
import type { JobRecord } from "../../state/jobs";
import { MiniPlayer, PlayerControls } from "./PlayerControls";
import { useOutOfView } from "./useOutOfView";
import type { Playback } from "./usePlayback";
import { usePlayerShortcuts } from "./usePlayerShortcuts";

interface MediaPlayerProps {
  id: string;
  record: JobRecord;
  playback: Playback;
}

export function isVideo(record: Pick<JobRecord, "media_kind" | "content_type">): boolean {
  return record.media_kind === "video" || (record.content_type ?? "").startsWith("video/");
}

export function MediaPlayer({ id, record, playback }: MediaPlayerProps) {
  const [failed, setFailed] = useState(false);
  const [helpOpen, setHelpOpen] = useState(false);
  const [box, setBox] = useState<HTMLDivElement | null>(null);
  const scrolledAway = useOutOfView(box);
  const toggleHelp = useCallback(() => setHelpOpen((open) => !open), []);
  usePlayerShortcuts(playback, toggleHelp);

  const video = isVideo(record);
  const filename = record.filename ?? "";
  const Media = video ? "video" : "audio";
  return (
    <div className="player" ref={setBox}>
      <Media
        ref={playback.mediaRef}
        className={video ? "player__media player__media--video" : "player__media"}
        controls
        playsInline={video ? true : undefined}
        preload="metadata"
        src={mediaUrl(id)}
        onTimeUpdate={playback.sync}
        onSeeked={playback.sync}
        onError={() => setFailed(true)}
        aria-label={`${video ? "Video" : "Audio"}: ${filename}`}
      />
      <PlayerControls playback={playback} helpOpen={helpOpen} onHelp={setHelpOpen} />
      {failed ? <p className="small error-text">The original recording could not be loaded.</p> : null}
      <MiniPlayer playback={playback} visible={scrolledAway} />
    </div>
  );
}

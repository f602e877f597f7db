import { useEffect, useRef } from "react";
import { ConnectionStatus } from "./components/ConnectionStatus";
import { KeyGate } from "./components/KeyGate";
import { WaveIcon } from "./components/Icons";
import { Link, matchPath, useLocation } from "./router";
import { JobsProvider } from "./state/JobsProvider";
import { UploadsProvider } from "./state/UploadsProvider";
import { LibraryView } from "./views/library/LibraryView";
import { NotFoundView } from "./views/NotFoundView";
import { isTranscriptionId, TranscriptView } from "./views/transcript/TranscriptView";
import { TranscriptNotFound } from "./views/transcript/TranscriptUnavailable";
import { UploadView } from "./views/UploadView";

function Routes({ pathname }: { pathname: string }) {
  if (pathname === "/" || pathname === "/upload") return <UploadView />;
  if (pathname === "/library") return <LibraryView />;
  const transcript = matchPath("/transcriptions/:id", pathname);
  if (transcript?.id) {
    if (!isTranscriptionId(transcript.id)) return <TranscriptNotFound />;
    return <TranscriptView key={transcript.id} id={transcript.id} />;
  }
  return <NotFoundView />;
}

function NavLink({ to, current, children }: { to: string; current: boolean; children: string }) {
  return (
    <Link to={to} className={`nav__link${current ? " is-current" : ""}`} aria-current={current ? "page" : undefined}>
      {children}
    </Link>
  );
}

export function Shell() {
  const { pathname } = useLocation();
  const main = useRef<HTMLElement>(null);
  const firstRender = useRef(true);

  // On navigation, start at the top and move focus to the new view's heading.
  useEffect(() => {
    if (firstRender.current) {
      firstRender.current = false;
      return;
    }
    window.scrollTo?.(0, 0);
    main.current?.querySelector<HTMLElement>("h1")?.focus({ preventScroll: true });
  }, [pathname]);

  const onUpload = pathname === "/" || pathname === "/upload";
  const onLibrary = pathname === "/library" || pathname.startsWith("/transcriptions/");

  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <div className="topbar__inner">
          <Link to="/" className="brand" aria-label="SoundScripter home">
            <span className="brand__mark">
              <WaveIcon size={18} />
            </span>
            <span className="brand__name">SoundScripter</span>
          </Link>
          <nav className="nav" aria-label="Main">
            <NavLink to="/" current={onUpload}>
              Upload
            </NavLink>
            <NavLink to="/library" current={onLibrary}>
              Library
            </NavLink>
          </nav>
          <ConnectionStatus />
        </div>
      </header>
      <main id="main" ref={main} className="main" tabIndex={-1}>
        <Routes pathname={pathname} />
      </main>
    </>
  );
}

export function App() {
  return (
    <KeyGate>
      <JobsProvider>
        <UploadsProvider>
          <Shell />
        </UploadsProvider>
      </JobsProvider>
    </KeyGate>
  );
}

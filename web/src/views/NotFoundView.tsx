import { Notice } from "../components/Notice";
import { Link } from "../router";
import { useDocumentTitle } from "./useDocumentTitle";

export function NotFoundView() {
  useDocumentTitle("Page not found");
  return (
    <div className="view">
      <h1 tabIndex={-1}>Page not found</h1>
      <Notice
        tone="empty"
        title="There is nothing at this address."
        action={
          <Link className="button" to="/">
            Upload files
          </Link>
        }
      >
        Check the link, or go to the <Link to="/library">library</Link>.
      </Notice>
    </div>
  );
}

// Languages offered in the upload options (Whisper language codes). Empty = detect automatically.

export const LANGUAGE_CODES: readonly string[] = [
  "en", "es", "fr", "de", "it", "pt", "nl", "sv", "da", "no", "fi", "pl", "cs", "ro", "hu", "el",
  "tr", "ru", "uk", "ar", "he", "fa", "hi", "bn", "ur", "ta", "id", "ms", "vi", "th", "zh", "ja", "ko",
];

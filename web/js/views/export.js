// Downloads made in the page: a Blob behind an `a[download]`, no library and no request.

export function download(name, blob) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  // The browser has taken the blob once the click has been handled.
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

export const jsonBlob = (data) => new Blob([`${JSON.stringify(data, null, 2)}\n`], { type: 'application/json' });

// RFC 4180: a field with a comma, quote or line break is quoted, quotes doubled.
export function csvBlob(header, rows) {
  const field = (v) => {
    const s = v == null ? '' : String(v);
    return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
  };
  const lines = [header, ...rows].map((row) => row.map(field).join(','));
  return new Blob([`${lines.join('\r\n')}\r\n`], { type: 'text/csv' });
}

// Safe in a file name: the prompt's first words.
export function slug(text) {
  return (text ?? '').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 40) || 'prompt';
}

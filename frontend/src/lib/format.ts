const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

/** "2 min ago", "yesterday", or a date, for a note's timestamp. */
export function formatWhen(iso: string | undefined, now = Date.now()): string {
	if (!iso) return '';
	const t = Date.parse(iso);
	if (Number.isNaN(t)) return '';
	const diff = Math.round((now - t) / 1000);
	if (diff < 45) return 'just now';
	if (diff < 3600) return `${Math.round(diff / 60)} min ago`;
	if (diff < 86_400 && new Date(t).getDate() === new Date(now).getDate()) {
		return `${Math.round(diff / 3600)} h ago`;
	}
	return dateTime.format(t);
}

export function formatFull(iso: string | undefined): string {
	if (!iso) return '';
	const t = Date.parse(iso);
	return Number.isNaN(t) ? '' : dateTime.format(t);
}

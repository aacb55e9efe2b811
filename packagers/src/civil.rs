//! Calendar dates of Unix times (UTC), for the formats that store a date rather than
//! seconds: zip's MS-DOS time ([`crate::jar::DosTime`]) and the Debian changelog's RFC 2822
//! date ([`crate::deb`]). The conversion is Howard Hinnant's `civil_from_days`
//! (proleptic Gregorian calendar); no clock is read.

/// A UTC date and time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Civil {
    /// The year (1970 and later).
    pub year: u64,
    /// 1–12.
    pub month: u64,
    /// 1–31.
    pub day: u64,
    /// 0–23.
    pub hour: u64,
    /// 0–59.
    pub minute: u64,
    /// 0–59.
    pub second: u64,
    /// Days since Thursday (1970-01-01 was one): 0 Thursday … 6 Wednesday.
    pub since_thursday: u64,
}

impl Civil {
    /// The date and time of `secs` seconds since 1970-01-01 00:00 UTC.
    pub fn from_unix(secs: u64) -> Civil {
        let days = secs / 86_400;
        let rest = secs % 86_400;
        let z = days + 719_468;
        let era = z / 146_097;
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        Civil {
            year: yoe + era * 400 + u64::from(month <= 2),
            month,
            day,
            hour: rest / 3600,
            minute: rest / 60 % 60,
            second: rest % 60,
            since_thursday: days % 7,
        }
    }

    /// RFC 2822, written `-0000` as Python's `email.utils.format_datetime` writes a time
    /// without a zone: `Wed, 22 Feb 2023 00:00:00 -0000`.
    pub fn rfc2822(&self) -> String {
        const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
        const MONTHS: [&str; 12] = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        format!(
            "{}, {:02} {} {} {:02}:{:02}:{:02} -0000",
            DAYS[self.since_thursday as usize % 7],
            self.day,
            MONTHS[(self.month as usize + 11) % 12],
            self.year,
            self.hour,
            self.minute,
            self.second
        )
    }
}

impl Civil {
    /// The date as Python's `strftime("%B %d, %Y")` writes it, which Mozilla's manual page
    /// template is dated with: `February 22, 2023`.
    pub fn long_date(&self) -> String {
        const MONTHS: [&str; 12] = [
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December",
        ];
        format!(
            "{} {:02}, {}",
            MONTHS[(self.month as usize + 11) % 12],
            self.day,
            self.year
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_python_s() {
        // deb.py's test: BuildID 20230222000000 gives this changelog date.
        assert_eq!(
            Civil::from_unix(1_677_024_000).rfc2822(),
            "Wed, 22 Feb 2023 00:00:00 -0000"
        );
        assert_eq!(
            Civil::from_unix(0).rfc2822(),
            "Thu, 01 Jan 1970 00:00:00 -0000"
        );
        assert_eq!(
            Civil::from_unix(951_782_400 + 3_661).rfc2822(),
            "Tue, 29 Feb 2000 01:01:01 -0000"
        );
        assert_eq!(
            Civil::from_unix(1_677_024_000).long_date(),
            "February 22, 2023"
        );
    }
}

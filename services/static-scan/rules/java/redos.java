import java.util.regex.Pattern;

class Validators {
    // ruleid: vigil-java-redos
    private static final Pattern EMAIL = Pattern.compile("^([a-zA-Z0-9_.-]+)+@example\\.com$");
    // ok: vigil-java-redos
    private static final Pattern SLUG = Pattern.compile("^[a-z0-9]+(-[a-z0-9]+)*$");

    boolean words(String text) {
        // ruleid: vigil-java-redos
        return text.matches("^(\\w+\\s*)*$");
    }

    String[] digits(String text) {
        // ok: vigil-java-redos
        return text.split("(\\d+)");
    }
}

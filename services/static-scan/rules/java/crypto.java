import com.auth0.jwt.JWT;
import com.auth0.jwt.algorithms.Algorithm;
import com.auth0.jwt.interfaces.DecodedJWT;
import io.jsonwebtoken.Claims;
import io.jsonwebtoken.Jwts;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.util.Random;
import javax.crypto.Cipher;
import javax.net.ssl.HttpsURLConnection;
import javax.net.ssl.SSLSession;
import javax.net.ssl.X509TrustManager;
import javax.servlet.http.Cookie;
import javax.servlet.http.HttpServletResponse;
import org.springframework.web.bind.annotation.CrossOrigin;
import org.apache.commons.codec.digest.DigestUtils;

class Crypto {
    byte[] encrypt(byte[] key, byte[] data) throws Exception {
        // ruleid: vigil-java-weak-cipher
        Cipher c = Cipher.getInstance("AES/ECB/PKCS5Padding");
        // ruleid: vigil-java-weak-cipher
        Cipher d = Cipher.getInstance("DES");
        // ok: vigil-java-weak-cipher
        Cipher g = Cipher.getInstance("AES/GCM/NoPadding");
        // ok: vigil-java-weak-cipher
        Cipher r = Cipher.getInstance("RSA/ECB/OAEPWithSHA-256AndMGF1Padding".replace("ECB", "None"));
        return data;
    }

    String hash(String password) throws Exception {
        MessageDigest md = MessageDigest.getInstance("MD5");
        // ruleid: vigil-java-weak-password-hash
        byte[] out = md.digest(password.getBytes());
        // ruleid: vigil-java-weak-password-hash
        String hex = DigestUtils.sha1Hex(password);
        return hex;
    }

    String checksum(byte[] body) throws Exception {
        MessageDigest md = MessageDigest.getInstance("MD5");
        // ok: vigil-java-weak-password-hash
        byte[] out = md.digest(body);
        // ok: vigil-java-weak-password-hash
        return DigestUtils.md5Hex(body);
    }

    String newSessionToken() {
        // ruleid: vigil-java-insecure-random
        return Long.toHexString(new Random().nextLong());
    }

    int otp(Random random) {
        // ruleid: vigil-java-insecure-random
        int resetCode = random.nextInt(1000000);
        return resetCode;
    }

    int jitter(Random random) {
        // ok: vigil-java-insecure-random
        int delay = random.nextInt(100);
        return delay;
    }

    String newApiKey() {
        SecureRandom sr = new SecureRandom();
        // ok: vigil-java-insecure-random
        return Long.toHexString(sr.nextLong());
    }
}

class TrustAll implements X509TrustManager {
    public void checkClientTrusted(X509Certificate[] chain, String authType) {
        validate(chain);
    }

    // ruleid: vigil-java-tls-trust-all
    public void checkServerTrusted(X509Certificate[] chain, String authType) {}

    public X509Certificate[] getAcceptedIssuers() {
        return new X509Certificate[0];
    }

    void install() {
        // ruleid: vigil-java-tls-trust-all
        HttpsURLConnection.setDefaultHostnameVerifier((host, session) -> true);
        // ok: vigil-java-tls-trust-all
        HttpsURLConnection.setDefaultHostnameVerifier((host, session) -> host.endsWith(".example.com"));
    }

    // ok: vigil-java-tls-trust-all
    public boolean verify(String host, SSLSession session) {
        return host.equals("api.example.com");
    }
}

class Tokens {
    String user(String token) {
        // ruleid: vigil-java-jwt-unverified
        DecodedJWT jwt = JWT.decode(token);
        return jwt.getSubject();
    }

    Object claims(String token, byte[] key) {
        // ruleid: vigil-java-jwt-unverified
        return Jwts.parser().setSigningKey(key).parse(token).getBody();
    }

    String userSafe(String token, Algorithm alg) {
        // ok: vigil-java-jwt-unverified
        DecodedJWT jwt = JWT.require(alg).build().verify(token);
        return jwt.getSubject();
    }

    Claims claimsSafe(String token, byte[] key) {
        // ok: vigil-java-jwt-unverified
        return Jwts.parser().setSigningKey(key).parseClaimsJws(token).getBody();
    }
}

class Cookies {
    void login(HttpServletResponse response, String id) {
        Cookie c = new Cookie("SESSIONID", id);
        // ruleid: vigil-java-insecure-cookie
        response.addCookie(c);
        Cookie t = new Cookie("auth_token", id);
        t.setHttpOnly(true);
        // ruleid: vigil-java-insecure-cookie
        response.addCookie(t);
        Cookie s = new Cookie("SESSIONID", id);
        s.setSecure(true);
        s.setHttpOnly(true);
        // ok: vigil-java-insecure-cookie
        response.addCookie(s);
        Cookie theme = new Cookie("theme", "dark");
        // ok: vigil-java-insecure-cookie
        response.addCookie(theme);
    }
}

@org.springframework.web.bind.annotation.RestController
class CorsExamples {
    // ruleid: vigil-java-cors-wildcard-credentials
    @CrossOrigin(originPatterns = "*", allowCredentials = "true")
    @org.springframework.web.bind.annotation.GetMapping("/me")
    public String me() {
        return "me";
    }

    // ok: vigil-java-cors-wildcard-credentials
    @CrossOrigin(origins = "https://app.example.com", allowCredentials = "true")
    @org.springframework.web.bind.annotation.GetMapping("/you")
    public String you() {
        return "you";
    }

    public org.springframework.web.cors.CorsConfiguration api() {
        org.springframework.web.cors.CorsConfiguration config = new org.springframework.web.cors.CorsConfiguration();
        // ruleid: vigil-java-cors-wildcard-credentials
        config.addAllowedOriginPattern("*");
        config.setAllowCredentials(true);
        org.springframework.web.cors.CorsConfiguration open = new org.springframework.web.cors.CorsConfiguration();
        // ok: vigil-java-cors-wildcard-credentials
        open.addAllowedOriginPattern("*");
        return config;
    }

    public void addCorsMappings(org.springframework.web.servlet.config.annotation.CorsRegistry registry) {
        // ruleid: vigil-java-cors-wildcard-credentials
        registry.addMapping("/api/**").allowedOriginPatterns("*").allowedMethods("GET", "POST").allowCredentials(true);
        // ok: vigil-java-cors-wildcard-credentials
        registry.addMapping("/public/**").allowedOriginPatterns("*");
    }
}
